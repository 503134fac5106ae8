"""The domain core: canonical facts, attendance-code maps, state policy packs and the engine.

Pure and free of I/O beyond reading its own data files; imports nothing else of truancy-sync.
"""
