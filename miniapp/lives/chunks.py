"""Check a recording's chunks as they arrive, before FFmpeg sees them.

A browser's MediaRecorder hands out a live recording in chunks cut anywhere: WebM (Matroska)
from Chromium, Firefox and Android, fragmented MP4 from Safari. FFmpeg's demuxers are lenient:
the Matroska one skips garbage to the next cluster without a word, so a damaged stream would go
on quietly losing picture. This checker walks the container's structure instead (element and box
headers, never the media inside) across chunk boundaries, and refuses a chunk that does not
continue it, before any of its bytes reach the demuxer: garbage, the rest of another file, or
what follows a chunk that was cut short. A refused chunk changes nothing, so the next good one
still continues the recording.

No library here: the Python EBML and MP4 readers (ebmlite, enzyme, pymp4) parse whole files or
whole elements, and this needs no more than the headers, read incrementally with a few bytes kept
between chunks.
"""

from dataclasses import dataclass, field, replace

from miniapp.lives.errors import LiveSourceError
from miniapp.videos.containers import MATROSKA, MOV

_EBML = 0x1A45DFA3
_EBML_MAGIC = _EBML.to_bytes(4, "big")
_SEGMENT = 0x18538067
_CLUSTER = 0x1F43B675
_SIMPLE_BLOCK = 0xA3
_VOID, _CRC32 = 0xEC, 0xBF
# What a Segment holds: SeekHead, Info, Tracks, Cues, Tags, Chapters, Attachments, Cluster.
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1C53BB6B, 0x1254C367, 0x1043A770, 0x1941A469, _CLUSTER}
# What a Cluster holds: Timestamp, SimpleBlock, BlockGroup, Position, PrevSize, SilentTracks, EncryptedBlock.
_CLUSTER_CHILDREN = {0xE7, _SIMPLE_BLOCK, 0xA0, 0xA7, 0xAB, 0x5854, 0xAF}
_UNKNOWN = -1
# The largest element or box a phone's recording holds: one frame of 4K video is a few MB; the
# headers (tracks, moov) are a few KB.
MAX_FRAME_BYTES = 32 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024

# Top-level ISO-BMFF boxes of a fragmented MP4 recording.
_FRAGMENT_BOXES = {b"moof", b"mdat", b"styp", b"sidx", b"prft", b"emsg", b"free", b"skip", b"uuid", b"mfra"}


def sniff(head: bytes) -> str | None:
    """MATROSKA or MOV for the first bytes of a recording, None for anything else (or too few bytes to say)."""
    if head.startswith(_EBML_MAGIC):
        return MATROSKA
    if head[4:8] == b"ftyp":
        return MOV
    return None


@dataclass(frozen=True)
class _State:
    kind: str | None = None
    started: bool = False  # the file header (EBML header or ftyp) has been seen
    in_segment: bool = False
    # Matroska: bytes left in the known-size cluster we are in, _UNKNOWN for one of unknown size,
    # None outside clusters. MP4: unused.
    cluster: int | None = None
    moov: bool = False
    skip: int = 0  # bytes of the current element's or box's body still to come
    block_start: bool = False  # the next body byte is a SimpleBlock's track number
    pending: bytes = field(default=b"")  # the start of a header cut by the chunk's end


class ChunkChecker:
    """Feed every chunk to check() in order; it raises LiveSourceError for one that doesn't fit."""

    def __init__(self):
        self._state = _State()

    @property
    def kind(self) -> str | None:
        """MATROSKA or MOV once the first bytes said which, else None."""
        return self._state.kind

    def check(self, chunk: bytes) -> None:
        """Accept `chunk` as the continuation of the recording, or raise LiveSourceError and change nothing."""
        state = self._state
        data = state.pending + chunk
        state = replace(state, pending=b"")
        if state.kind is None:
            kind = sniff(data)
            if kind is None:
                if len(data) < 8 and (_EBML_MAGIC.startswith(data[:4]) or b"ftyp".startswith(data[4:])):
                    self._state = replace(state, pending=data)  # too little to tell yet
                    return
                raise LiveSourceError("not_recording")
            state = replace(state, kind=kind)
        walk = _walk_matroska if state.kind == MATROSKA else _walk_mp4
        self._state = walk(state, data)


def _skip(state: _State, data: bytes, pos: int) -> tuple[_State, int]:
    """Pass over what is left of the current body in `data`; also check a SimpleBlock's track number."""
    if state.block_start and pos < len(data):
        if not 0x81 <= data[pos] <= 0x8F:  # a track number under 16, as a 1-byte EBML number
            raise LiveSourceError("corrupt")
        state = replace(state, block_start=False)
    taken = min(state.skip, len(data) - pos)
    state = replace(state, skip=state.skip - taken)
    if state.cluster is not None and state.cluster != _UNKNOWN:
        state = replace(state, cluster=state.cluster - taken)
    return state, pos + taken


def _vint(data: bytes, pos: int, *, max_length: int) -> tuple[int, int, bool] | None:
    """An EBML variable-length number at `pos`: (value with the marker bit kept, length, all ones);
    None if `data` ends first. Raises LiveSourceError when no number can start with this byte."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = 9 - first.bit_length()
    if first == 0 or length > max_length:
        raise LiveSourceError("corrupt")
    if pos + length > len(data):
        return None
    value = int.from_bytes(data[pos : pos + length], "big")
    payload = value & ((1 << (7 * length)) - 1)
    return value, length, payload == (1 << (7 * length)) - 1


def _walk_matroska(state: _State, data: bytes) -> _State:
    pos = 0
    while True:
        state, pos = _skip(state, data, pos)
        if pos == len(data):
            return state
        if state.cluster == 0:
            state = replace(state, cluster=None)
        element = _vint(data, pos, max_length=4)
        size = element and _vint(data, pos + element[1], max_length=8)
        if not size:
            return replace(state, pending=data[pos:])
        element_id, size_length, unknown = element[0], size[1], size[2]
        body = size[0] & ((1 << (7 * size_length)) - 1)
        header = element[1] + size_length
        if state.cluster not in (None, _UNKNOWN):  # a child of a cluster of known size: it must fit in it
            if header > state.cluster:
                raise LiveSourceError("corrupt")
            state = replace(state, cluster=state.cluster - header)
        state = _enter_element(state, element_id, body=None if unknown else body)
        if state.cluster not in (None, _UNKNOWN) and state.skip > state.cluster:
            raise LiveSourceError("corrupt")
        pos += header


def _enter_element(state: _State, element_id: int, *, body: int | None) -> _State:
    """The state after an element's header; `body` None: of unknown size (only a Segment or a Cluster may be)."""
    if element_id == _EBML:
        if state.started:
            raise LiveSourceError("restarted")
        if body is None or body > MAX_HEADER_BYTES:
            raise LiveSourceError("not_recording")
        return replace(state, started=True, skip=body)
    if not state.started:
        raise LiveSourceError("not_recording")
    if element_id == _SEGMENT:
        if state.in_segment:
            raise LiveSourceError("corrupt")
        return replace(state, in_segment=True)
    if not state.in_segment:
        raise LiveSourceError("corrupt")
    if state.cluster == _UNKNOWN and element_id in _SEGMENT_CHILDREN:
        state = replace(state, cluster=None)  # a cluster of unknown size ends where the next top-level element starts
    if element_id in (_VOID, _CRC32):
        return replace(state, skip=_known(body, MAX_HEADER_BYTES))
    if state.cluster is None:
        if element_id == _CLUSTER:
            return replace(state, cluster=_UNKNOWN if body is None else body)
        if element_id in _SEGMENT_CHILDREN:
            return replace(state, skip=_known(body, MAX_HEADER_BYTES))
        raise LiveSourceError("corrupt")
    if element_id not in _CLUSTER_CHILDREN:
        raise LiveSourceError("corrupt")
    return replace(state, skip=_known(body, MAX_FRAME_BYTES), block_start=element_id == _SIMPLE_BLOCK)


def _known(body: int | None, limit: int) -> int:
    if body is None or body > limit:
        raise LiveSourceError("corrupt")
    return body


def _walk_mp4(state: _State, data: bytes) -> _State:
    pos = 0
    while True:
        state, pos = _skip(state, data, pos)
        if pos == len(data):
            return state
        if len(data) - pos < 8:
            return replace(state, pending=data[pos:])
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if len(data) - pos < 16:
                return replace(state, pending=data[pos:])
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        state = _enter_box(state, kind, size - header)
        pos += header


def _enter_box(state: _State, kind: bytes, body: int) -> _State:
    if body < 0 or not all(32 <= byte < 127 for byte in kind):
        raise LiveSourceError("corrupt")  # size 0 ("to the end of the file") too: no live recording ends
    if kind == b"ftyp":
        if state.started:
            raise LiveSourceError("restarted")
        return replace(state, started=True, skip=_known(body, MAX_HEADER_BYTES))
    if not state.started:
        raise LiveSourceError("not_recording")
    if kind == b"moov":
        if state.moov:
            raise LiveSourceError("corrupt")
        return replace(state, moov=True, skip=_known(body, MAX_HEADER_BYTES))
    # Media before the index means a file written to be read whole (index last), not a recording in fragments.
    if kind not in _FRAGMENT_BOXES or not state.moov:
        raise LiveSourceError("corrupt")
    return replace(state, skip=_known(body, MAX_FRAME_BYTES if kind == b"mdat" else MAX_HEADER_BYTES))
