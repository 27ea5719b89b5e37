"""Tests of the e-mail adapter: parsing, corpus, loopback mail servers."""
