"""Probing continuous thoughts: the logit lens, frontier mass on graph tasks, path classes, plots and the report."""
