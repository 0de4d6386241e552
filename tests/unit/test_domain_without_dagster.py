import subprocess
import sys


def test_domain_imports_without_dagster():
    code = ("import sys; import barometre, barometre.catalogue, barometre.geography, barometre.indicators, "
            "barometre.marts, barometre.warehouse, barometre.landing, barometre.cohesion, barometre.validation; "
            "import barometre.sources.elections, barometre.sources.cog, barometre.sources.cget_2018; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
