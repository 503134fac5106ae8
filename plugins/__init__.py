"""One folder per SIS product: which connector, which code map, how actions become SIS writes."""
