# The Python twin of argv_before_init.cc: module-level code reads sys.argv[1],
# which every child started by spawn or forkserver sees too.
import multiprocessing
import sys


def task(name):
    print('%s runing' % name, flush=True)


method = sys.argv[1]
print('before the guard:', method, flush=True)

if __name__ == '__main__':
    multiprocessing.set_start_method(method)
    p = multiprocessing.Process(target=task, args=('p1',))
    p.start()
    p.join()
    print('exitcode', p.exitcode, flush=True)
    # Stops the helper processes, so that none outlives the program.
    from multiprocessing import forkserver, resource_tracker
    forkserver._forkserver._stop()
    resource_tracker._resource_tracker._stop()
