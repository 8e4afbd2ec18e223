"""python manage.py create_client NAME --region CODE [--write] [--rate-limit N]: an integration
client and its token."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.services import client_create
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Create an integration client for a province or regency and print its token (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--region", required=True, help="province or regency/city code")
        parser.add_argument("--write", action="store_true", help="may write (default: read-only)")
        parser.add_argument("--personal-data", action="store_true", help="may see full NIK, birth date, phone")
        parser.add_argument("--days", type=int, default=365, help="token validity in days (default 365)")
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=None,
            help="requests a minute for this client's tokens (default: UCJ_RATE_TOKEN)",
        )

    def handle(self, *args, name, region, write, personal_data, days, rate_limit, **options) -> None:
        try:
            profile, token = client_create(
                name=name,
                region_code=region,
                can_write=write,
                personal_data=personal_data,
                days=days,
                rate_limit=rate_limit,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        mode = "read-write" if write else "read-only"
        area = profile.regency or profile.province  # the region's code as stored: dotted
        assert area is not None  # a client covers a province or a regency (client_create)
        self.stdout.write(f"Client {profile.user.username} ({mode}, region {area.code}), token valid {days} days:")
        self.stdout.write(token)
        self.stdout.write("Send it as 'Authorization: Token <token>'. It is not stored and cannot be shown again.")
