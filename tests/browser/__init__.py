"""JupyterLab in headless Chromium: the learner's path through chapters and exercises."""
