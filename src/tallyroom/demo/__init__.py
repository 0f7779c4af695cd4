"""The demo: Labour's 2016 leadership ballot run end to end through the election services.

* :mod:`~tallyroom.demo.run`: :func:`~tallyroom.demo.run.run_demo`, each stage timed;
* :mod:`~tallyroom.demo.register`: the synthetic register and votes built from the
  published figures.
"""
