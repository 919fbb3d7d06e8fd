def threads_for(clients):
    return clients + 1   # one per client, plus the thread blocked in accept()
