"""python manage.py load_demo: the demo data set that `make run` serves."""

from django.core.management.base import BaseCommand, CommandParser

from villages.demo import demo_load


class Command(BaseCommand):
    help = "Load the Jambi Province demo data set (deterministic; loading twice gives the same data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-password", default="ucj-demo-admin", help="password of the demo admin")

    def handle(self, *args, admin_password: str, **options) -> None:
        summary = demo_load(admin_password=admin_password)
        for line in summary:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
