"""A simulated district SIS served over real HTTP, independent of the rest of truancy-sync."""
