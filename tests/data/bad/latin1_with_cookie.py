# -*- coding: latin-1 -*-
x = "café"
def f():
    return x
