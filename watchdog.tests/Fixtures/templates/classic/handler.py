def handle(req):
    return "Hello! You said: " + req
