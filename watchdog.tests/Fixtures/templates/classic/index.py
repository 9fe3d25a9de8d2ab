# A classic function written the way OpenFaaS's python3 template is: the request body on stdin,
# handed to handler.handle, its return value printed.
import sys

from handler import handle


def get_stdin():
    return sys.stdin.read()


if __name__ == "__main__":
    ret = handle(get_stdin())
    if ret is not None:
        print(ret)
