"""Offline preview: run a stack under the SDK's mock engine and judge it with the real policy pack."""
