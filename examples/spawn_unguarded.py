# The Python twin of spawn_unguarded.cc: no main guard. Under spawn and
# forkserver each child imports this module again and fails before its target
# with a RuntimeError (CPython 3.11: set_start_method's "context has already
# been set", the child's context being set already); its exitcode is 1 and the
# parent's start() succeeds.
import multiprocessing
import sys


def task(name):
    print('%s runing' % name, flush=True)


print('main() entered', flush=True)
multiprocessing.set_start_method(sys.argv[1] if len(sys.argv) > 1 else 'spawn')
p = multiprocessing.Process(target=task, args=('p1',))
p.start()
p.join()
print('exitcode', p.exitcode, flush=True)
# Stops the helper processes, so that none outlives the program.
from multiprocessing import forkserver, resource_tracker
forkserver._forkserver._stop()
resource_tracker._resource_tracker._stop()
