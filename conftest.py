"""Project-wide pytest plugins: the moto-server AWS stack fixtures."""

pytest_plugins = ["tests.support.aws_fixtures"]
