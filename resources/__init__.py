"""Shipped assets: default model weights, factor encoder, icons."""
