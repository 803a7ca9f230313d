"""The bump hunt: m_jj spectra, dijet-function fits, significance, sensitivity and limits."""
