"""Files to and from count objects: RCTab configs and CVRs, BLT, PrefLib, CSV, NIST CDF."""
