"""Families: one module (or subpackage) per kind of scaling question; each prepares its tidy table, calls the engine and answers its questions from the fit."""
