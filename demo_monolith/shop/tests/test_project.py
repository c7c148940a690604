"""
Project-level checks: the README's ground truth stays true, migrations are
complete, the seed command and the traffic driver work.
"""
import ast
import io
import json
import re
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django.test import SimpleTestCase, TestCase

from catalog.models import Product
from orders.models import Order

BASE = Path(__file__).resolve().parent.parent.parent
README = BASE / "README.md"
TRAFFIC = BASE.parent / "scripts" / "traffic.py"
REF = re.compile(r"^([\w/]+\.py):(\d+)$")


def ground_truth():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```ground-truth\n(.*?)```", text, re.S).group(1)
    entries = {}
    for line in block.strip().splitlines():
        key, _, value = line.partition(":")
        entries[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return entries


def table_rows(header_start):
    """Rows of the README table whose header line starts with header_start."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def top_level_defs(module):
    path = BASE / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            defs[node.name] = ("def", first, node.end_lineno)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = ("assign", node.lineno, node.end_lineno)
    return defs


def source_line(ref):
    match = REF.match(ref)
    assert match, f"bad reference {ref!r}"
    lines = (BASE / match.group(1)).read_text(encoding="utf-8").splitlines()
    number = int(match.group(2))
    assert 1 <= number <= len(lines), f"{ref} is past the end of the file"
    return lines[number - 1]


def unquote(cell):
    return cell.strip("`")


class GroundTruthTests(SimpleTestCase):
    def test_every_named_function_exists(self):
        entries = ground_truth()
        for key in ["extract_first", "extract_later", "do_not_extract", "fire_and_forget", "request_reply", "batch", "signal_receivers", "module_state"]:
            self.assertTrue(entries[key], key)
            for name in entries[key]:
                module, _, func = name.rpartition(".")
                with self.subTest(key=key, name=name):
                    self.assertIn(func, top_level_defs(module))

    def test_lists_are_consistent(self):
        entries = ground_truth()
        first, never = set(entries["extract_first"]), set(entries["do_not_extract"])
        self.assertFalse(first & never)
        self.assertEqual(set(entries["fire_and_forget"]) | set(entries["request_reply"]) | set(entries["batch"]), first)
        self.assertEqual(len(entries["extract_first"]), 6)

    def test_import_cycle_is_real(self):
        (cycle,) = ground_truth()["import_cycles"]
        left, right = (part.strip() for part in cycle.split("<->"))

        def imports(module):
            tree = ast.parse((BASE / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
            found = set()
            for node in tree.body:
                if isinstance(node, ast.ImportFrom):
                    found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
                elif isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
            return found

        self.assertIn(right, imports(left))
        self.assertIn(left, imports(right))

    def test_every_blocker_row_points_at_its_evidence(self):
        rows = table_rows("| capability | blocker |")
        self.assertGreaterEqual(len(rows), 20)
        for capability, blocker, where, evidence, why in rows:
            with self.subTest(capability=capability, where=where):
                self.assertIn(unquote(evidence), source_line(where))
                self.assertTrue(why)

    def test_every_do_not_extract_has_a_blocker_inside_itself(self):
        """At least one blocker lies in the function; the others in its file are module-level."""
        rows = table_rows("| capability | blocker |")
        for name in ground_truth()["do_not_extract"]:
            module, _, func = name.rpartition(".")
            own_file = module.replace(".", "/") + ".py"
            defs = top_level_defs(module)
            _, start, end = defs[func]
            lines = [
                int(REF.match(where).group(2))
                for cap, _, where, _, _ in rows
                if unquote(cap) == name and where.startswith(own_file + ":")
            ]
            with self.subTest(name=name):
                self.assertTrue(any(start <= line <= end for line in lines), f"no blocker inside {name}")
                for line in lines:
                    if not start <= line <= end:
                        inside = [n for n, (kind, s, e) in defs.items() if kind == "def" and s <= line <= e]
                        self.assertEqual(inside, [], f"{name}: line {line} is inside {inside}")

    def test_extract_first_table_matches_the_code(self):
        rows = table_rows("| capability | kind |")
        self.assertEqual([unquote(r[0]) for r in rows], ground_truth()["extract_first"])
        for capability, kind, entry, caller, evidence in rows:
            module, _, func = unquote(capability).rpartition(".")
            with self.subTest(capability=capability):
                self.assertIn(f"def {func}(", source_line(entry))
                self.assertIn(unquote(evidence), source_line(caller))

    def test_all_line_references_in_readme_exist(self):
        text = README.read_text(encoding="utf-8")
        refs = re.findall(r"\b([a-z_]+/[\w/]+\.py:\d+)\b", text)
        self.assertGreater(len(refs), 30)
        for ref in refs:
            with self.subTest(ref=ref):
                source_line(ref)


class MigrationsTests(TestCase):
    def test_models_and_migrations_agree(self):
        call_command("makemigrations", check=True, dry_run=True, stdout=io.StringIO())


class SeedShopTests(TestCase):
    def test_seed_shop(self):
        out = io.StringIO()
        call_command("seed_shop", customers=3, orders=12, seed=5, stdout=out)
        self.assertIn("seeded 13 products, 3 customers, 12 orders", out.getvalue())
        self.assertEqual(Product.objects.filter(stock__quantity=500).count(), 13)
        self.assertEqual(Order.objects.count(), 12)
        self.assertTrue(all(o.total == o.subtotal + o.shipping_cost + o.tax for o in Order.objects.all()))

    def test_seed_shop_refuses_a_shop_with_products(self):
        from django.core.management.base import CommandError

        call_command("seed_shop", customers=1, orders=0, stdout=io.StringIO())
        with self.assertRaises(CommandError):
            call_command("seed_shop", stdout=io.StringIO())


class TrafficScriptTests(SimpleTestCase):
    def test_traffic_driver_runs_against_its_own_database(self):
        if not TRAFFIC.exists():
            self.skipTest("scripts/traffic.py is not next to demo_monolith")
        result = subprocess.run(
            [sys.executable, str(TRAFFIC), "--iterations", "10", "--users", "3", "--staff-every", "5", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["iterations"], 10)
        self.assertEqual(sorted(summary["per_user"]), ["1", "2", "3", "anonymous", "staff"])
        for endpoint in ["POST orders:checkout", "GET invoices:invoice_html", "GET shipping:quote", "POST catalog:upload_image", "GET reports:sales_csv"]:
            self.assertIn(endpoint, summary["endpoints"])
        self.assertNotIn("500", summary["statuses"])
        self.assertGreater(summary["orders_placed"], 0)


class AdminSmokeTests(TestCase):
    def test_every_shop_model_admin_renders(self):
        from django.contrib import admin
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        call_command("seed_shop", customers=2, orders=3, stdout=io.StringIO())
        self.client.force_login(get_user_model().objects.get(username="staff"))
        ours = [m for m in admin.site._registry if m._meta.app_label not in ("auth",)]
        self.assertGreaterEqual(len(ours), 8)
        for model in ours:
            opts = model._meta
            with self.subTest(model=opts.label):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
                self.assertEqual(self.client.get(url).status_code, 200)
                obj = model.objects.first()
                if obj is not None:
                    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                    self.assertEqual(self.client.get(change).status_code, 200)
