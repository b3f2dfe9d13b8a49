"""What a newcomer hits sending functions to workers: the errors must say what to do."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cohive
from cohive._shipping import function_ref

TIMEOUT = 120
PACKAGE_ROOT = str(Path(cohive.__file__).resolve().parent.parent)  # the cohive under test


def run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT,
                          env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))


def test_a_script_without_the_main_guard_is_told_about_it(tmp_path: Path) -> None:
    out = run_script(tmp_path, """
        import cohive

        def triple(x):
            return 3 * x

        with cohive.Executor(1) as ex:
            print(ex.submit(triple, 2).result(timeout=60))
    """)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: a worker imports the main script"), out.stderr
    assert 'if __name__ == "__main__":' in last and "job.py" in last


def test_a_guarded_script_that_fails_in_a_worker_is_not_blamed_on_the_guard(tmp_path: Path) -> None:
    out = run_script(tmp_path, """
        import cohive

        def triple(x):
            return 3 * x

        if __name__ != "__main__":
            raise LookupError("only in workers")

        if __name__ == "__main__":
            with cohive.Executor(1) as ex:
                try:
                    ex.submit(triple, 2).result(timeout=60)
                except ImportError as exc:
                    print("ImportError:", exc)
    """)
    assert out.returncode == 0, out.stderr
    assert "could not import the main script" in out.stdout and "LookupError: only in workers" in out.stdout
    assert '__name__ == "__main__"' not in out.stdout


def test_a_function_defined_by_exec_gets_a_hint_to_move_it_into_a_module() -> None:
    namespace: dict[str, object] = {"__name__": "generated"}
    exec("def f(x):\n    return x\n", namespace)  # noqa: S102 - the point of the test
    with pytest.raises(TypeError, match=r"generated\.f .*exec\(\) or interactively \(in <string>\).*"
                                        r"move it into a module \(a \.py file\)"):
        function_ref(namespace["f"])


def test_an_interactive_function_gets_the_same_hint() -> None:
    code = "from cohive._shipping import function_ref\ndef f(): pass\ntry:\n    function_ref(f)\nexcept TypeError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT,
                         env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))
    assert "defined interactively" in out.stdout and "move it into a module (a .py file)" in out.stdout, out.stderr
