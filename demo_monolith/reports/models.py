# Reports only read other apps' tables.
