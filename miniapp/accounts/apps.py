from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "miniapp.accounts"
    verbose_name = "用户 / Accounts"
