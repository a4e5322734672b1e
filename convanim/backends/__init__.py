"""Backends: each turns a :class:`convanim.scene.Scene` into one kind of output.

raster (Pillow pixels, the animation formats), svg (animated or still SVG text),
pdf (a vector still). None of them decides what is drawn, in which colour or
order, or which text fits: the scene has done that.
"""
