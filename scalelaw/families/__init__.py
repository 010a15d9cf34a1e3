"""Families: one module (or subpackage) per kind of scaling question.

Each family prepares its tidy table from its own kind of log, calls the engine, and answers its
questions from the fit.
"""
