# Seed 002, "ShareableList 共享列表": the seed's interactive session as a script (each `>>>`
# expression that echoed a value is printed; the expected ValueError is caught and printed).
from multiprocessing import shared_memory

a = shared_memory.ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42])
print([type(entry) for entry in a])
print(a[2])
a[2] = -78.5
print(a[2])
a[2] = 'dry ice'  # Changing data types is supported as well
print(a[2])
try:
    a[2] = 'larger than previously allocated storage space'
except ValueError as e:
    print(f"ValueError: {e}")
print(a[2])
print(len(a))
print(a.index(42))
print(a.count(b'howdy'))
print(a.count(b'HoWdY'))
a.shm.close()
a.shm.unlink()
del a  # Use of a ShareableList after call to unlink() is unsupported

b = shared_memory.ShareableList(range(5))         # In a first process
c = shared_memory.ShareableList(name=b.shm.name)  # In a second process
print(c)
c[-1] = -999
print(b[-1])
b.shm.close()
c.shm.close()
c.shm.unlink()
