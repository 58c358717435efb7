"""End-to-end screening (composition -> gate -> structures -> relax -> BVSE -> ranking)."""
