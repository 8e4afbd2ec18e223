"""python manage.py load_demo: the Jambi demo that `make run` serves."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from seed.demo import demo_load


class Command(BaseCommand):
    help = "Load the Jambi Province demo (deterministic; loading twice gives the same data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-password", default="ucj-demo-admin", help="password of the demo admin")
        parser.add_argument("--regions", type=Path, help="official region list (code,name CSV) for real names")

    def handle(self, *args, admin_password: str, regions: Path | None, **options) -> None:
        if regions is not None and not regions.is_file():
            raise CommandError(f"{regions}: no such file")
        demo_load(admin_password=admin_password, regions_file=regions, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
