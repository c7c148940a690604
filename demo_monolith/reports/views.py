from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render

from core.utils import date_range_or_default
from reports.dashboard import build_dashboard
from reports.sales import sales_report_csv


@staff_member_required
def dashboard(request):
    return render(request, "reports/dashboard.html", build_dashboard(request))


@staff_member_required
def sales_csv(request):
    start = request.GET.get("start", "")
    end = request.GET.get("end", "")
    csv_text = sales_report_csv(start, end)
    first, last = date_range_or_default(start, end)
    response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sales-{first}-{last}.csv"'
    return response
