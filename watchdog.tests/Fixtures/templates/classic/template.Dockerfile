# The ENV line of OpenFaaS's classic python3 template: only fprocess; every timeout is the
# default. Read by TemplateHandlerSpecs.
ENV fprocess="python3 index.py"
