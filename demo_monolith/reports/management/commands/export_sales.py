from django.core.management.base import BaseCommand

from reports.sales import sales_report_csv


class Command(BaseCommand):
    help = "Write the sales report CSV for a date range to stdout or a file."

    def add_arguments(self, parser):
        parser.add_argument("--start", default="")
        parser.add_argument("--end", default="")
        parser.add_argument("--output", "-o", default="")

    def handle(self, *args, **options):
        csv_text = sales_report_csv(options["start"], options["end"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(csv_text)
            self.stdout.write(self.style.SUCCESS(f"wrote {options['output']}"))
        else:
            self.stdout.write(csv_text, ending="")
