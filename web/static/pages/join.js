/* the room of this link: /join/<token>/room (the token is the last part of this address) */
document.getElementById("enter-room").href =
  "/join/" + location.pathname.split("/").filter(Boolean).pop() + "/room";
