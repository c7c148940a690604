type Vector = list[float]

def first[T](xs: list[T]) -> T:
    return helper(xs)

class Box[T]:
    def get(self) -> T:
        return self.value()

    def value(self):
        pass

def helper(xs):
    pass
