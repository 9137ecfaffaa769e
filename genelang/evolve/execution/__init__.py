"""Where and how candidates are evaluated: the typed request and result that
cross to workers (`evaluation`), one candidate's pipeline (`fitness`), the
backends (`backends`: local processes, Ray) with their workers and device
placement, the preflight before a new run, NASGEP's weight banks (`weights`)."""
