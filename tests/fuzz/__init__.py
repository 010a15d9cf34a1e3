"""Generated hostile inputs through the command line and the Python readers (``make fuzz`` for the long run)."""
