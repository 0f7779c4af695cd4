"""Files in, files out: counts that never touch the election store.

* :mod:`~tallyroom.tabulate.rctab`: a contest run as RCTab runs it (config in, reports out);
* :mod:`~tallyroom.tabulate.rctab_count`: a contest's records counted under its config, and
  every ballot traced round by round (what both modules above and below count with);
* :mod:`~tallyroom.tabulate.rctab_cdf`: RCTab's ``generateCdfJson`` (records with per-round
  snapshots);
* :mod:`~tallyroom.tabulate.rctab_convert`: RCTab's CVR conversions (CSV table, CDF);
* :mod:`~tallyroom.tabulate.file_count`: ``tallyroom count``: a ballot file counted under a
  rule, with seat constraints, or as an electoral college of section files.
"""
