"""Na-ion transport tiers beyond BVSE: machine-learned molecular dynamics and lattice KMC."""
