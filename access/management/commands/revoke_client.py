"""python manage.py revoke_client NAME: revoke every token of an integration client."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.services import client_revoke
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Revoke every token of an integration client and deactivate it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args, name, **options) -> None:
        try:
            revoked = client_revoke(name=name)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"{revoked} tokens revoked; client {name} deactivated."))
