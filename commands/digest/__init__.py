"""Monthly newsletter digest: member news, upcoming sessions and last month in numbers."""
