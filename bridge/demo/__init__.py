"""The scripted demo day: both registries share outcomes through the bridge.

``creditbridge demo`` resets the demo tables, starts both pipelines in-process, plays
a day of outcomes on each side and shows both display views converging.
"""
