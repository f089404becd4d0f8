"""The command lines' code (each `parse_args()` + `main()`, mmdet's flags): `tools/*.py` are thin entry
points over them, and an installed harness runs them as `python -m harness.commands.<name>` (the grid
runner's Slurm jobs do). The top floor: a command may import anything below it."""
