import os
os.system("touch /tmp/sitecustomize-ran")
