"""The compiled part of tallyroom: the BLT ballot scanner (src/tallyroom/formats/_blt_c.c).

Everything else about the package is declared in pyproject.toml; setuptools reads both.
``pip install -e .`` (run.sh, CI) compiles the extension with the machine's C compiler and
places it beside its source; a build that fails stops the install (the extension is not
optional), and tests/formats/test_blt_native.py checks that the compiled scan is in use.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tallyroom.formats._blt_c",
            sources=["src/tallyroom/formats/_blt_c.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
        )
    ]
)
