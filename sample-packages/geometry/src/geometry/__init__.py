"""geometry: polylines and named places in 3-D, on spyvecmath."""
