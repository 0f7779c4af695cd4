"""RCTab's files: contest configs (:mod:`.config`), cast vote records from every provider
RCTab reads (:mod:`.cvr`) and RCTab's own CVR table (:mod:`.cvr_csv`)."""
