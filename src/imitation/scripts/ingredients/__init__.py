"""Sacred ingredients shared by the scripts: each owns one config namespace.

Only the command-line layer (``imitation.scripts``) imports Sacred; every
ingredient's captured functions are thin calls into the library.
"""
