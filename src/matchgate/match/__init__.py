"""Probabilistic matching of requests to the master history (Splink): the model definition, its
training, and the engines that find candidate taxpayers."""
