"""The tuning loop (``loop``), progress summaries (``progress``) and the operations shared by the
CLI and the APIs (``service``). Import the module you need; this package imports nothing heavy."""
