from remote_check.cli import main

main()
