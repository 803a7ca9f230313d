"""Lund-plane reweighting (CMS, arXiv:2507.07775): data-driven correction of simulated jet substructure."""
