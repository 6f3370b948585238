// What every page script shares: the URLs the server gave the page, requests to the app
// (session cookie, CSRF header, errors a person can act on) and the translations.

// Translations: Django's JavaScript catalogue (/jsi18n/, a classic script before the
// modules) defines `django`. Without it (it failed to load) the text stays as written,
// in English; `interpolate` is Django's own, which depends on no language.
const untranslated = {
  gettext: (text) => text,
  ngettext: (singular, plural, count) => (count === 1 ? singular : plural),
  interpolate: (format, values, named = false) =>
    named
      ? format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]))
      : format.replace(/%s/g, () => String(values.shift())),
};
const catalogue = () => globalThis.django ?? untranslated;
export const gettext = (text) => catalogue().gettext(text);
export const ngettext = (singular, plural, count) => catalogue().ngettext(singular, plural, count);
export const interpolate = (format, values, named = false) => catalogue().interpolate(format, values, named);

// URLs: the templates render them with {% url %} into `data-url-<url name>` attributes
// (`data-url-api-like` on the feed, `data-url-friends` on the body…). One with an id is
// rendered for id 0 (`{% url 'api-like' 0 %}`): `url("api-like", 7)` puts the 7 in.
export function url(name, id) {
  const element = document.querySelector(`[data-url-${name}]`);
  if (!element) throw new Error(`This page has no data-url-${name}.`);
  const rendered = element.getAttribute(`data-url-${name}`);
  return id === undefined ? rendered : rendered.replace("/0/", `/${encodeURIComponent(id)}/`);
}

// Django's CSRF token: from its cookie (pages that post set it), else from a form's field.
export function csrfToken() {
  const cookie = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  if (cookie) return decodeURIComponent(cookie[1]);
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
}

// The API answers an error with {"detail": "…"}; a form's fields may each have their own.
export function errorMessage(body, fallback) {
  if (typeof body?.detail === "string" && body.detail) return body.detail;
  const fields = Object.values(body ?? {})
    .flat()
    .filter((text) => typeof text === "string");
  return fields.join(" ") || fallback;
}

export class RequestError extends Error {
  constructor(message, { status = 0, body = {} } = {}) {
    super(message);
    this.status = status; // 0: the network failed, no answer came
    this.body = body;
  }

  get network() {
    return this.status === 0;
  }
}

// A request to the app: the session's cookies, JSON both ways, the CSRF header. Resolves to
// the answer's JSON; rejects with a RequestError whose message is for a person: the
// server's own, else `fallback` (give one where the message is shown), or that the network failed.
export async function request(address, { method = "GET", json, fallback, keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(address, {
      method,
      headers,
      credentials: "same-origin",
      keepalive,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  } catch {
    throw new RequestError(gettext("The network failed. Check your connection and try again."));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = errorMessage(body, fallback ?? `${response.status} ${response.statusText}`);
    throw new RequestError(message, { status: response.status, body });
  }
  return body;
}
