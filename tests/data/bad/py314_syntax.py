name = "x"
greeting = t"hello {name}"

try:
    pass
except ValueError, TypeError:
    handle()
